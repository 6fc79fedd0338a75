package catalogue

func httpCases() []*Case {
	return nil
}
