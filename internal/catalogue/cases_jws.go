package catalogue

func moreJWSCases() []*Case {
	return nil
}
