"""Letters on paper for people e-mail cannot reach: address lines, PDF layout (staff machines only)."""
