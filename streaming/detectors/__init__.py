"""Detectors: safety rules and learned personal models, River's protocol.

See :mod:`streaming.detectors.base` for the protocol and episodes.
"""

from streaming.detectors.base import Detector, Finding, Observation
from streaming.detectors.baseline import Baseline
from streaming.detectors.fused import DeclineScore, Signal
from streaming.detectors.registry import DETECTOR_CLASSES, build_detectors
from streaming.detectors.robust import RobustBaseline
from streaming.detectors.safety import (
    BloodPressureHigh,
    BloodPressureLow,
    HeartRateHigh,
    HeartRateLow,
    MeasureLimit,
    SafetyRule,
    SpO2Low,
)
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
    "BloodPressureHigh",
    "BloodPressureLow",
    "DeclineScore",
    "Detector",
    "Finding",
    "HeartFailureScore",
    "HeartRateHigh",
    "HeartRateLow",
    "MeasureLimit",
    "Observation",
    "PressureScore",
    "RespiratoryScore",
    "RobustBaseline",
    "SafetyRule",
    "Signal",
    "SpO2Drop",
    "SpO2Low",
    "WeightGainRule",
    "build_detectors",
    "build_score",
]
