"""Internal plugins registered by import, like pytest's built-ins; plugins can override them."""
