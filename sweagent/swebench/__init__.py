"""SWE-bench input and output: datasets, instance images, predictions, grading and batch runs.

Grading follows the official harness: SWE-bench's own log parsers and resolution rules decide
whether a prediction resolved an instance; this package only runs the containers around them.
"""
