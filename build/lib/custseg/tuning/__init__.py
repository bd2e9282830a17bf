"""Tuning the segmentation with Optuna (`tuning=optuna`): `study` runs or joins a study and
returns the chosen trial, `selection` is the rule that chooses it, `space` turns
`segment.search_space` into Optuna's terms, `fill` shares one study between workers and
`storage` keeps it (and fails the trials of workers that died).

Nothing is imported here: `selection` needs no Optuna, so code that only reads trials does not
pay for importing it."""
