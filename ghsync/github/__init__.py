"""The GitHub side of ghsync: GraphQL documents, the token pool and the client."""
