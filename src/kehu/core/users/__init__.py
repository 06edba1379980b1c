"""Users, their API tokens and web sessions: who may use kehu, and how they prove it."""
