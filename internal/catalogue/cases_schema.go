package catalogue

func moreHappyCases() []*Case {
	return nil
}

func schemaCases() []*Case {
	return nil
}
