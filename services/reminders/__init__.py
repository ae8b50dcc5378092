"""reminders: Dunning strategies over SMS, e-mail, push and voice; call tasks, promises and plans;
publishes reminders.v1.
"""
