"""The detection APIs (seed, native, DeepStack / CodeProject.AI) and the inference client."""
