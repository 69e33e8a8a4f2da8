// Placeholder so the package loads while this module is written.
