"""CRM analytics: the Python package behind the dbt project (readers, synthetic data)."""
