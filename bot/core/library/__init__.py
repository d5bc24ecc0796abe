"""`flows/` as the engine runs it: the schema, loading and checking, the compiled model, the shared
`transitions` machines, conditions and templates."""
