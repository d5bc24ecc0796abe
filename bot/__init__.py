"""taikai-bot (退会ナビ): a chatbot that walks people through leaving Japanese crowdsourcing platforms."""

__version__ = "0.1.0"
