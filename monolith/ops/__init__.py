"""Operations: the fault switch of the monolith's in-process catalog, for the failure exercises (stage 0)."""
