"""The local dev stack: real PostgreSQL and Apache Kafka without Docker, the sandbox and the four services.

`make up` runs `python -m common.devstack up`; the pytest fixtures call the same functions.
"""
