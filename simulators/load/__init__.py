"""Load generation for the benchmarks: pre-encoded raw-socket MQTT publishers
(``rawmqtt``, ``mqttcodec``) and a bare counting subscriber (``countsub``).
Independent of the cohort simulation and of the evaluation.
"""
