"""Score models on a tenant's own reviewed frames: COCO mAP per service, precision / recall at
the service's threshold, CPU time per image, so a model is promoted on the tenant's cameras."""
