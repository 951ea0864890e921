"""Running several Rasa servers on shared engines (Redis, RabbitMQ)."""
