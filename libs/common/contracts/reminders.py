"""Contracts of `reminders.v1` beyond the contact ones: promises, plans and escalation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from common.contracts import Contract, contract

TOPIC = "reminders.v1"


class AccountEvent(Contract):
    account_id: str
    borrower_id: str
    at: datetime


@contract("promise.made")
class PromiseMade(AccountEvent):
    promise_id: str
    amount_minor: int
    currency: str
    due_date: date
    source: Literal["call", "visit", "inbound", "ops"]


@contract("promise.kept")
class PromiseKept(AccountEvent):
    promise_id: str


@contract("promise.broken")
class PromiseBroken(AccountEvent):
    promise_id: str


class Installment(Contract):
    due_date: date
    amount_minor: int


@contract("plan.created")
class PlanCreated(AccountEvent):
    plan_id: str
    currency: str
    installments: list[Installment]


@contract("plan.installment_missed")
class PlanInstallmentMissed(AccountEvent):
    plan_id: str
    due_date: date
    amount_minor: int


@contract("plan.completed")
class PlanCompleted(AccountEvent):
    plan_id: str


@contract("collection.escalated")
class CollectionEscalated(AccountEvent):
    to: Literal["visit", "review"]
    reason: str
    dpd: int
    amount_minor: int
