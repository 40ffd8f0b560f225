"""The detection API views: the seed, native and DeepStack routes (detect.py) and the rest of
CodeProject.AI's routes that camera software calls (codeproject.py)."""
