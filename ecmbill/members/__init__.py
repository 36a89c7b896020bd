"""Members over time: enrollment, discontinuation, lead care manager, unable to reach."""
