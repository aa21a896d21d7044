"""What every stage shares: errors that carry ``file:line`` (``errors``), the parsed record types
(``model``), text normalisation (``normalize``), category names and ids and the rows of the
published tables (``records``), and the tables' fields and schema (``tables``). Nothing here
imports a stage."""
