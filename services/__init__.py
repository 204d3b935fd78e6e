"""The domain: each module holds its tables and use cases and registers its operators."""
