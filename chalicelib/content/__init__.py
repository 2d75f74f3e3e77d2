"""Incident content: the model, loading from YAML files and validation against schema and GDPR Art. 34."""
