"""People: one profile per human across channels, with purchases, events, consent and merges."""
