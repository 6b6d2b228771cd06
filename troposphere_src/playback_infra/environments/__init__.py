"""The environment model (`model`), its subnet layout (`layout`) and the environments (`catalog`)."""
