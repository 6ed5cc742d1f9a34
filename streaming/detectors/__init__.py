"""Detectors: safety rules and learned personal models, River's protocol.

See :mod:`streaming.detectors.base` for the protocol and episodes.
"""

from streaming.detectors.base import Detector, Finding, Observation
from streaming.detectors.baseline import Baseline
from streaming.detectors.drift import DailyDrift, HeartRateDrift, SystolicDrift
from streaming.detectors.registry import DETECTOR_CLASSES, build_detectors
from streaming.detectors.respiratory import RespiratoryDecline
from streaming.detectors.safety import (
    BloodPressureHigh,
    BloodPressureLow,
    HeartRateHigh,
    HeartRateLow,
    SafetyRule,
    SpO2Low,
)
from streaming.detectors.spo2 import SpO2Drop
from streaming.detectors.weight import WeightDrift, WeightGainRule

__all__ = [
    "DETECTOR_CLASSES",
    "Baseline",
    "BloodPressureHigh",
    "BloodPressureLow",
    "DailyDrift",
    "Detector",
    "Finding",
    "HeartRateDrift",
    "HeartRateHigh",
    "HeartRateLow",
    "Observation",
    "RespiratoryDecline",
    "SafetyRule",
    "SpO2Drop",
    "SpO2Low",
    "SystolicDrift",
    "WeightDrift",
    "WeightGainRule",
    "build_detectors",
]
