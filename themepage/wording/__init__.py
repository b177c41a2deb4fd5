"""Words shoppers and LMs read: aisle labels, titles, the shopper's context, safe text."""
