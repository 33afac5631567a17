"""The cart context: a shopper's cart, kept in the session. Reads products through the catalog port."""
