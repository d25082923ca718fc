"""The votes app's pages, one module per area: the tally, the ballot form, the audit."""
