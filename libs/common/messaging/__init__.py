"""The messaging kit: CloudEvents envelope, producer, transactional outbox and relay, inbox consumer."""
