"""Side information: what the receiver must be told besides the payload and how it is paid for. The bit formulas
(written once, :mod:`~airnet.side_info.bits`), the lossless mask code, the digital transports that carry the bits
(5G NR LDPC with early-stopping decoder, ideal capacity codes), the protection (the SNR it is designed for and the
robust MCS), and the sizing of a delivery to its budget with the two searches it uses."""
from airnet.side_info.bits import SideInfo, analog_side_info, payload_side_info
from airnet.config.run import SideInfoOptions
from airnet.side_info.protection import Design, LinkOptions, SideLink
from airnet.side_info.sizing import Fit, NothingFits, codes_that_fit, fit_plan, weights_that_fit

__all__ = ["Design", "Fit", "LinkOptions", "NothingFits", "SideInfo", "SideInfoOptions", "SideLink",
           "analog_side_info", "codes_that_fit", "fit_plan", "payload_side_info", "weights_that_fit"]
