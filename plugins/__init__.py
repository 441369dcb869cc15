"""Built-in channel plugins. Each is written exactly as an outside package would be."""
