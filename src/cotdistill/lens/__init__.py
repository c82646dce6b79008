"""Layer-wise readouts of trained students: logit lens and tuned lens."""
