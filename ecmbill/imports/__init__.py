"""Importing staff, members, eligibility, enrollments, time and outreach from CSV or XLSX.

Every row read is either accepted or rejected with its line, column and a reason a biller
understands; accepted + rejected = rows read. A file is one transaction.
"""
