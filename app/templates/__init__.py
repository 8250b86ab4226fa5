"""Templates as data the service owns: immutable, content-addressed versions (draft,
published, archived) stored in the database and object storage, with exactly one published
version per template; renders pin the version they use, and workers load it by id."""
