SELECT digest FROM schema_digest;
