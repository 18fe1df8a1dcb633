//! Provider selection strategies: the order in which a request tries providers.
