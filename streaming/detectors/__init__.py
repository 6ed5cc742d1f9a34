"""Detectors: safety rules and learned personal models, River's protocol.

See :mod:`streaming.detectors.base` for the protocol and episodes.
"""

from streaming.detectors.base import Detector, Finding, Observation
from streaming.detectors.baseline import Baseline
from streaming.detectors.fused import DeclineScore, Signal
from streaming.detectors.registry import DETECTOR_CLASSES, build_detectors
from streaming.detectors.robust import RobustBaseline
from streaming.detectors.safety import MeasureLimit, SafetyRule
from streaming.detectors.scores import (
    HeartFailureScore,
    PressureScore,
    RespiratoryScore,
    build_score,
)
from streaming.detectors.spo2 import SpO2Drop
from streaming.detectors.weight import WeightGainRule

__all__ = [
    "DETECTOR_CLASSES",
    "Baseline",
    "DeclineScore",
    "Detector",
    "Finding",
    "HeartFailureScore",
    "MeasureLimit",
    "Observation",
    "PressureScore",
    "RespiratoryScore",
    "RobustBaseline",
    "SafetyRule",
    "Signal",
    "SpO2Drop",
    "WeightGainRule",
    "build_detectors",
    "build_score",
]
