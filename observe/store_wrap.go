package observe

import "github.com/couponkit/couponkit/store"

// wrap returns o with the methods of the optional interfaces that mask
// names (bits as optional sets them): one case for each of the 32
// combinations, so that a type assertion on the result succeeds exactly
// for the interfaces the inner store implements.
func wrap(o *observed, mask uint) store.Store {
	switch mask >> 3 {
	case 0:
		return wrapLow(o, mask&7)
	case 1:
		return wrapLeases(o, mask&7)
	case 2:
		return wrapCheckpoints(o, mask&7)
	default:
		return wrapBoth(o, mask&7)
	}
}

// wrapLow is wrap for the masks without leases or checkpoints: low names the others.
func wrapLow(o *observed, low uint) store.Store {
	switch low {
	case 0:
		return o
	case 1:
		return struct {
			*observed
			*versionerPart
		}{o, (*versionerPart)(o)}
	case 2:
		return struct {
			*observed
			*appenderPart
		}{o, (*appenderPart)(o)}
	case 3:
		return struct {
			*observed
			*versionerPart
			*appenderPart
		}{o, (*versionerPart)(o), (*appenderPart)(o)}
	case 4:
		return struct {
			*observed
			*codeReaderPart
		}{o, (*codeReaderPart)(o)}
	case 5:
		return struct {
			*observed
			*versionerPart
			*codeReaderPart
		}{o, (*versionerPart)(o), (*codeReaderPart)(o)}
	case 6:
		return struct {
			*observed
			*appenderPart
			*codeReaderPart
		}{o, (*appenderPart)(o), (*codeReaderPart)(o)}
	default:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*codeReaderPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*codeReaderPart)(o)}
	}
}

// wrapLeases is wrap for the masks with leases: low names the others.
func wrapLeases(o *observed, low uint) store.Store {
	switch low {
	case 0:
		return struct {
			*observed
			*leasesPart
		}{o, (*leasesPart)(o)}
	case 1:
		return struct {
			*observed
			*versionerPart
			*leasesPart
		}{o, (*versionerPart)(o), (*leasesPart)(o)}
	case 2:
		return struct {
			*observed
			*appenderPart
			*leasesPart
		}{o, (*appenderPart)(o), (*leasesPart)(o)}
	case 3:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*leasesPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*leasesPart)(o)}
	case 4:
		return struct {
			*observed
			*codeReaderPart
			*leasesPart
		}{o, (*codeReaderPart)(o), (*leasesPart)(o)}
	case 5:
		return struct {
			*observed
			*versionerPart
			*codeReaderPart
			*leasesPart
		}{o, (*versionerPart)(o), (*codeReaderPart)(o), (*leasesPart)(o)}
	case 6:
		return struct {
			*observed
			*appenderPart
			*codeReaderPart
			*leasesPart
		}{o, (*appenderPart)(o), (*codeReaderPart)(o), (*leasesPart)(o)}
	default:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*codeReaderPart
			*leasesPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*codeReaderPart)(o), (*leasesPart)(o)}
	}
}

// wrapCheckpoints is wrap for the masks with checkpoints: low names the others.
func wrapCheckpoints(o *observed, low uint) store.Store {
	switch low {
	case 0:
		return struct {
			*observed
			*checkpointsPart
		}{o, (*checkpointsPart)(o)}
	case 1:
		return struct {
			*observed
			*versionerPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*checkpointsPart)(o)}
	case 2:
		return struct {
			*observed
			*appenderPart
			*checkpointsPart
		}{o, (*appenderPart)(o), (*checkpointsPart)(o)}
	case 3:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*checkpointsPart)(o)}
	case 4:
		return struct {
			*observed
			*codeReaderPart
			*checkpointsPart
		}{o, (*codeReaderPart)(o), (*checkpointsPart)(o)}
	case 5:
		return struct {
			*observed
			*versionerPart
			*codeReaderPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*codeReaderPart)(o), (*checkpointsPart)(o)}
	case 6:
		return struct {
			*observed
			*appenderPart
			*codeReaderPart
			*checkpointsPart
		}{o, (*appenderPart)(o), (*codeReaderPart)(o), (*checkpointsPart)(o)}
	default:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*codeReaderPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*codeReaderPart)(o), (*checkpointsPart)(o)}
	}
}

// wrapBoth is wrap for the masks with leases and checkpoints: low names the others.
func wrapBoth(o *observed, low uint) store.Store {
	switch low {
	case 0:
		return struct {
			*observed
			*leasesPart
			*checkpointsPart
		}{o, (*leasesPart)(o), (*checkpointsPart)(o)}
	case 1:
		return struct {
			*observed
			*versionerPart
			*leasesPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	case 2:
		return struct {
			*observed
			*appenderPart
			*leasesPart
			*checkpointsPart
		}{o, (*appenderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	case 3:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*leasesPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	case 4:
		return struct {
			*observed
			*codeReaderPart
			*leasesPart
			*checkpointsPart
		}{o, (*codeReaderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	case 5:
		return struct {
			*observed
			*versionerPart
			*codeReaderPart
			*leasesPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*codeReaderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	case 6:
		return struct {
			*observed
			*appenderPart
			*codeReaderPart
			*leasesPart
			*checkpointsPart
		}{o, (*appenderPart)(o), (*codeReaderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	default:
		return struct {
			*observed
			*versionerPart
			*appenderPart
			*codeReaderPart
			*leasesPart
			*checkpointsPart
		}{o, (*versionerPart)(o), (*appenderPart)(o), (*codeReaderPart)(o), (*leasesPart)(o), (*checkpointsPart)(o)}
	}
}
