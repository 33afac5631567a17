"""The staff page /staff/migration/: the stage, who serves what, and each process's traffic."""
