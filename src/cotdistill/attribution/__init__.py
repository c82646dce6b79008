"""Which rationale tokens matter: score sources (integrated gradients, known key words),
the scores table they write, and the figures and tables that judge them.

Submodules are imported where used so that light jobs (conditions) never load torch.
"""
