"""Offline catalogs: GPUs, model architectures, optimizer/scheduler signatures."""
