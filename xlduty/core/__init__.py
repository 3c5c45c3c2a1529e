"""The calculation core: pure law and arithmetic, no Excel, no network, no adapters."""
