"""The catalog: models, hardware and price sheets, each figure with its source."""
