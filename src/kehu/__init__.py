"""kehu (客户): customer value and customer experience management."""

__version__ = "0.1.0"
