"""Problems: recurring complaints become problems with an owner, a fix and a message back
to everyone affected (DESIGN.md, step 5)."""
