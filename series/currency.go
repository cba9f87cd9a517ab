package series

// MinorUnits returns the number of decimal places of an ISO 4217 currency's
// minor unit: 2 for most currencies (EUR, USD, GBP ...), 0 for those without
// a minor unit in use (JPY, KRW, ...), 3 for the dinar and rial currencies
// that divide into thousandths (BHD, KWD, ...), and 4 for the units of
// account CLF and UYW. An unknown code gives 2.
func MinorUnits(currency string) int {
	switch currency {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}
