"""Dataset export from the request-event archive, and evaluation sets imported back.

The archive keeps every image a tenant's cameras sent with the model's answer; this package
turns a filtered sample of it into a labelling-tool dataset (COCO, YOLO, Label Studio) with the
model's boxes as pre-labels, and reads reviewed COCO annotations back as an evaluation set.
"""
