"""The curriculum grammar, shipped as package data (grammar/curriculum.lark)."""
