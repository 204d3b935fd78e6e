"""The generic workflow runtime. Knows no process, form or domain table by name."""
