"""The parallel run of the catalog: what ShadowCatalog found different between the monolith and the catalog service."""
