"""Advocacy: how engaged each person is by their own choice (not how often they clicked), who
speaks for us and who, unhappy and widely heard, may speak against us (docs/advocacy.md).

Pure code over plain dataclasses: the people domain feeds it histories from the database, so
the job, the reports and the tests run the same model.
"""
